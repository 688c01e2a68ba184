"""Signs a SOAP 1.1 request the way a zeep client does: BinarySignature (RSA-SHA256,
SHA-256 digests) over the Body and a wsu:Timestamp, certificate in a BinarySecurityToken.

usage: zeep_sign.py KEY.pem CERT.pem PAYLOAD.xml OUT.xml
"""
import datetime
import sys

import xmlsec
from lxml import etree
from zeep.wsse.signature import BinarySignature
from zeep.wsse.utils import WSU, ensure_id, get_security_header

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


def main(key, cert, payload_file, out):
    env = etree.Element(etree.QName(SOAP11, "Envelope"), nsmap={"soap-env": SOAP11})
    etree.SubElement(env, etree.QName(SOAP11, "Header"))
    body = etree.SubElement(env, etree.QName(SOAP11, "Body"))
    body.append(etree.fromstring(open(payload_file, "rb").read()))

    # zeep signs a Timestamp it finds in the Security header (zeep.wsse.signature).
    security = get_security_header(env)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    ts = WSU.Timestamp(
        WSU.Created(now.strftime(fmt)),
        WSU.Expires((now + datetime.timedelta(minutes=5)).strftime(fmt)),
    )
    ensure_id(ts)
    security.append(ts)

    signer = BinarySignature(
        key,
        cert,
        signature_method=xmlsec.Transform.RSA_SHA256,
        digest_method=xmlsec.Transform.SHA256,
    )
    env, _ = signer.apply(env, {})
    with open(out, "wb") as f:
        f.write(etree.tostring(env, xml_declaration=True, encoding="UTF-8"))


if __name__ == "__main__":
    main(*sys.argv[1:5])
