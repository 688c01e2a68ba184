"""Verifies a signed SOAP message the way a zeep client checks an answer
(zeep.wsse.signature.verify_envelope with the signer's certificate).

usage: zeep_verify.py SIGNED.xml CERT.pem     (exit 0 when valid)
"""
import sys

from lxml import etree
from zeep.wsse.signature import verify_envelope


def main(signed, cert):
    env = etree.fromstring(open(signed, "rb").read())
    verify_envelope(env, cert)
    print("zeep: signature valid")


if __name__ == "__main__":
    main(*sys.argv[1:3])
