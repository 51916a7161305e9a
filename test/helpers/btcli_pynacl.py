"""
A btcli wallet read and written the way the Python bittensor package's keyfile module does it
(bittensor 6 and 7, before bittensor-wallet moved it to Rust), on PyNaCl: the key is argon2i of the
password under bittensor's fixed salt at libsodium's own SENSITIVE limits (read from PyNaCl, not
typed here), the coldkey is b"$NACL" + SecretBox(key).encrypt(keypair JSON), and a keypair JSON
names the account in `accountId`, `publicKey` and `ss58Address`.

    python3 btcli_pynacl.py read <wallet dir> <hotkey name> <password>
        prints one JSON line: each file's fields as that module would load them, with the ss58
        address recomputed here from the public key (prefix 42), and the limits used
    python3 btcli_pynacl.py copy <wallet dir> <hotkey name> <password> <new wallet dir> <new password>
        opens the wallet as above and writes it again under the new password, as that module's
        set_keypair writes: the coldkey's JSON as json.dumps writes it, encrypted; coldkeypub.txt
        with the public fields; the hotkey file as it was

Exit code 3 where PyNaCl is not installed (the test then skips and says so).
"""
import hashlib
import json
import os
import sys

try:
    from nacl import pwhash, secret
except ImportError:
    sys.exit(3)

SALT = b"\x13q\x83\xdf\xf1Z\t\xbc\x9c\x90\xb5Q\x879\xe9\xb1"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def key_of(password):
    return pwhash.argon2i.kdf(
        secret.SecretBox.KEY_SIZE, password.encode("utf-8"), SALT,
        opslimit=pwhash.argon2i.OPSLIMIT_SENSITIVE, memlimit=pwhash.argon2i.MEMLIMIT_SENSITIVE)


def ss58(public_key_hex, prefix=42):
    body = bytes([prefix]) + bytes.fromhex(public_key_hex[2:])
    check = hashlib.blake2b(b"SS58PRE" + body, digest_size=64).digest()[:2]
    raw = body + check
    n = int.from_bytes(raw, "big")
    out = ""
    while n > 0:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def loaded(data):
    fields = json.loads(data.decode("utf-8"))
    return {
        "ss58Address": fields.get("ss58Address"),
        "publicKey": fields.get("publicKey"),
        "accountId": fields.get("accountId"),
        "secretPhrase": fields.get("secretPhrase"),
        "hasPrivateKey": fields.get("privateKey") is not None,
        "ss58FromPublicKey": ss58(fields["publicKey"]) if fields.get("publicKey") else None,
    }


def read(wallet, hotkey, password):
    with open(os.path.join(wallet, "coldkey"), "rb") as f:
        sealed = f.read()
    if sealed[:5] != b"$NACL":
        raise SystemExit("the coldkey is not NaCl-encrypted")
    cold = secret.SecretBox(key_of(password)).decrypt(sealed[5:])
    with open(os.path.join(wallet, "coldkeypub.txt"), "rb") as f:
        pub = f.read()
    with open(os.path.join(wallet, "hotkeys", hotkey), "rb") as f:
        hot = f.read()
    print(json.dumps({
        "coldkey": loaded(cold), "coldkeypub": loaded(pub), "hotkey": loaded(hot),
        "limits": {"opslimit": pwhash.argon2i.OPSLIMIT_SENSITIVE, "memlimit": pwhash.argon2i.MEMLIMIT_SENSITIVE},
    }))


def copy(wallet, hotkey, password, target, new_password):
    with open(os.path.join(wallet, "coldkey"), "rb") as f:
        cold = json.loads(secret.SecretBox(key_of(password)).decrypt(f.read()[5:]))
    with open(os.path.join(wallet, "hotkeys", hotkey), "rb") as f:
        hot = f.read()
    public = {"accountId": cold["publicKey"], "publicKey": cold["publicKey"], "privateKey": None,
              "secretPhrase": None, "secretSeed": None, "ss58Address": cold["ss58Address"]}
    os.makedirs(os.path.join(target, "hotkeys"), exist_ok=True)
    files = {
        "coldkey": b"$NACL" + bytes(secret.SecretBox(key_of(new_password)).encrypt(json.dumps(cold).encode())),
        "coldkeypub.txt": json.dumps(public).encode(),
        os.path.join("hotkeys", hotkey): hot,
    }
    for name, data in files.items():
        with open(os.path.join(target, name), "wb") as f:
            f.write(data)
        os.chmod(os.path.join(target, name), 0o600)


if __name__ == "__main__":
    if sys.argv[1] == "read":
        read(*sys.argv[2:5])
    else:
        copy(*sys.argv[2:7])
