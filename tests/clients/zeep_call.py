#!/usr/bin/env python3
"""Calls a service through the gateway with zeep, the way an agency's Python client would:
import the published WSDL, pick the SOAP 1.1 or 1.2 port, call one operation.

Prints the answer as JSON on stdout; on a SOAP fault prints {"fault": faultcode, "code":
the gateway's lt:Code from the detail, "message": ...} and exits 3. Optionally signs with WS-Security (BinarySignature + Timestamp) and verifies
the gateway's signed answer.
"""
import argparse
import datetime
import json
import sys

import requests
import xmlsec
import zeep
from zeep.wsse import utils as wsse_utils
from zeep.wsse.signature import BinarySignature, _verify_envelope_with_key


def add_timestamp(envelope, ttl=300):
    """Adds a wsu:Timestamp to the Security header; BinarySignature then signs it too."""
    security = wsse_utils.get_security_header(envelope)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    ts = wsse_utils.WSU("Timestamp")
    ts.append(wsse_utils.WSU("Created", now.strftime("%Y-%m-%dT%H:%M:%SZ")))
    ts.append(wsse_utils.WSU("Expires", (now + datetime.timedelta(seconds=ttl)).strftime("%Y-%m-%dT%H:%M:%SZ")))
    security.insert(0, ts)


class TimestampedSignature(BinarySignature):
    """BinarySignature (RSA-SHA256, SHA-256 digests) over Body and a Timestamp; answers are
    verified against the gateway's certificate when one is given."""

    def __init__(self, key, cert, server_cert=None):
        super().__init__(
            key,
            cert,
            signature_method=xmlsec.constants.TransformRsaSha256,
            digest_method=xmlsec.constants.TransformSha256,
        )
        self.server_cert = server_cert

    def apply(self, envelope, headers):
        add_timestamp(envelope)
        return super().apply(envelope, headers)

    def verify(self, envelope):
        if self.server_cert:
            key = xmlsec.Key.from_file(self.server_cert, xmlsec.constants.KeyDataFormatCertPem)
            _verify_envelope_with_key(envelope, key)
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

    session = requests.Session()
    if a.consumer:
        session.headers["X-Lienthong-Consumer"] = a.consumer
    transport = zeep.Transport(session=session, timeout=30, operation_timeout=30)
    wsse = TimestampedSignature(a.key, a.cert, a.server_cert) if a.key else None
    client = zeep.Client(a.wsdl, transport=transport, wsse=wsse)
    service = pick_port(client, a.soap12)
    try:
        result = getattr(service, a.operation)(**json.loads(a.args))
    except zeep.exceptions.Fault as f:
        # The gateway's own code (wsse:..., lt:...) is in the detail, in both versions.
        code = None
        if f.detail is not None:
            code = f.detail.findtext(".//{urn:lienthong:gateway:1}Code")
        print(json.dumps({"fault": str(f.code), "code": code, "message": f.message}))
        return 3
    print(json.dumps(zeep.helpers.serialize_object(result, dict), default=str, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
