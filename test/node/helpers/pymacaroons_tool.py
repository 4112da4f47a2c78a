"""Drive Debian's python3-pymacaroons for the macaroon interoperability test.

Reads one JSON request on stdin, writes one JSON answer on stdout. Binary
values travel as hex. Macaroons are V2 binary (pymacaroons BinarySerializer
serialize_raw / deserialize_raw).

  {"op": "mint", "root_key": hex, "identifier": hex, "location": str, "caveats": [str],
   "third_party": [{"location": str, "key": hex, "id": str}]}   (third_party optional, added last)
      -> {"macaroon": hex, "signature": hex}
  {"op": "inspect", "macaroon": hex}
      -> {"location": str, "identifier": hex, "signature": hex,
          "caveats": [{"id": hex, "vid": hex|null, "location": str|null}]}
  {"op": "attenuate", "macaroon": hex, "caveats": [str]} -> {"macaroon": hex, "signature": hex}
  {"op": "verify", "macaroon": hex, "root_key": hex, "satisfy_exact": [str]}
      -> {"ok": bool, "error": str|null}

Used by test/node/credentials-interop.test.ts.
"""
import binascii
import json
import sys

from pymacaroons import Macaroon, MACAROON_V2, Verifier
from pymacaroons.serializers.binary_serializer import BinarySerializer


def unhex(s):
    return binascii.unhexlify(s)


def out_mac(m):
    raw = BinarySerializer().serialize_raw(m)
    return {"macaroon": binascii.hexlify(raw).decode(), "signature": m.signature}


def load(h):
    return BinarySerializer().deserialize_raw(unhex(h))


def main():
    req = json.load(sys.stdin)
    op = req["op"]
    if op == "mint":
        m = Macaroon(
            location=req["location"],
            identifier=unhex(req["identifier"]),
            key=unhex(req["root_key"]),
            version=MACAROON_V2,
        )
        for c in req.get("caveats", []):
            m.add_first_party_caveat(c)
        for t in req.get("third_party", []):
            m.add_third_party_caveat(t["location"], unhex(t["key"]), t["id"])
        ans = out_mac(m)
    elif op == "attenuate":
        m = load(req["macaroon"])
        for c in req["caveats"]:
            m.add_first_party_caveat(c)
        ans = out_mac(m)
    elif op == "inspect":
        m = load(req["macaroon"])
        ans = {
            "location": m.location,
            "identifier": binascii.hexlify(m.identifier_bytes).decode(),
            "signature": m.signature,
            "caveats": [
                {
                    "id": binascii.hexlify(c.caveat_id_bytes).decode(),
                    "vid": binascii.hexlify(c.verification_key_id).decode() if c.verification_key_id else None,
                    "location": c.location,
                }
                for c in m.caveats
            ],
        }
    elif op == "verify":
        m = load(req["macaroon"])
        v = Verifier()
        for c in req.get("satisfy_exact", []):
            v.satisfy_exact(c)
        try:
            ok = v.verify(m, unhex(req["root_key"]))
            ans = {"ok": bool(ok), "error": None}
        except Exception as e:  # pymacaroons raises MacaroonInvalidSignatureException etc.
            ans = {"ok": False, "error": type(e).__name__ + ": " + str(e)}
    else:
        raise SystemExit("unknown op " + op)
    json.dump(ans, sys.stdout)


if __name__ == "__main__":
    main()
