#!/usr/bin/env python3
"""Calls a service through the gateway with zeep, the way an agency's Python client would:
import the published WSDL, pick the SOAP 1.1 or 1.2 port, call one operation.

Prints the answer as JSON on stdout; on a SOAP fault prints {"fault": code, "message": ...}
and exits 3. Optionally signs with WS-Security (BinarySignature + Timestamp) and verifies
the gateway's signed answer.
"""
import argparse
import datetime
import json
import sys

import zeep
from lxml import etree
from zeep.wsse import utils as wsse_utils


class Timestamp:
    """Adds a wsu:Timestamp to the Security header (zeep's BinarySignature signs it)."""

    def __init__(self, ttl=300):
        self.ttl = ttl

    def apply(self, envelope, headers):
        security = wsse_utils.get_security_header(envelope)
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        ts = wsse_utils.WSU("Timestamp")
        ts.append(wsse_utils.WSU("Created", now.strftime("%Y-%m-%dT%H:%M:%SZ")))
        ts.append(wsse_utils.WSU("Expires", (now + datetime.timedelta(seconds=self.ttl)).strftime("%Y-%m-%dT%H:%M:%SZ")))
        security.insert(0, ts)
        return envelope, headers

    def verify(self, envelope):
        return envelope


def pick_port(client, soap12):
    want = "Soap12Binding" if soap12 else "Soap11Binding"
    for service in client.wsdl.services.values():
        for port in service.ports.values():
            if type(port.binding).__name__ == want:
                return client.bind(service.name, port.name)
    raise SystemExit(f"no {want} port in the WSDL")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--wsdl", required=True)
    p.add_argument("--operation", required=True)
    p.add_argument("--args", default="{}", help="operation arguments as JSON")
    p.add_argument("--consumer", help="X-Lienthong-Consumer header (unsigned services)")
    p.add_argument("--soap12", action="store_true")
    p.add_argument("--key", help="PEM private key to sign with")
    p.add_argument("--cert", help="PEM certificate of that key")
    p.add_argument("--server-cert", help="PEM certificate to verify the signed answer with")
    a = p.parse_args()

    session = zeep.transports.Session()
    if a.consumer:
        session.headers["X-Lienthong-Consumer"] = a.consumer
    transport = zeep.Transport(session=session, timeout=30, operation_timeout=30)
    wsse = None
    if a.key:
        from zeep.wsse.signature import BinarySignature

        class SignAndCheck(BinarySignature):
            """Signs with the agency key; verifies answers with the gateway's certificate."""

            def verify(self, envelope):
                if a.server_cert:
                    from zeep.wsse.signature import _verify_envelope_with_key
                    import xmlsec

                    key = xmlsec.Key.from_file(a.server_cert, xmlsec.constants.KeyDataFormatCertPem)
                    _verify_envelope_with_key(envelope, key)
                return envelope

        wsse = [Timestamp(), SignAndCheck(a.key, a.cert,
                                          signature_method=zeep.wsse.signature.xmlsec.constants.TransformRsaSha256,
                                          digest_method=zeep.wsse.signature.xmlsec.constants.TransformSha256)]
    client = zeep.Client(a.wsdl, transport=transport, wsse=wsse)
    service = pick_port(client, a.soap12)
    try:
        result = getattr(service, a.operation)(**json.loads(a.args))
    except zeep.exceptions.Fault as f:
        print(json.dumps({"fault": str(f.code), "message": f.message}))
        return 3
    print(json.dumps(zeep.helpers.serialize_object(result, dict), default=str, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
