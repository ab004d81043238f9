"""Ed25519 signatures through the system's OpenSSL (libcrypto, via ctypes), for a light agent process.

Every call into `cryptography`'s Rust library faults about 6 MiB of its code back into the agent's resident
set (the kernel maps file pages back in large chunks), and importing it costs 2.6 MiB more; the system's
libcrypto, which Python's own ssl and hashlib modules already load, signs the same way for about 1.6 MiB.
So once enrolled, the agent reads its key file (PKCS#8 PEM, RFC 8410: a fixed 16-byte DER prefix and the
32-byte private key) and signs with OpenSSL's EVP_DigestSign. Ed25519 is deterministic: the signature is
byte for byte the one `cryptography` makes (a test checks). Where libcrypto or its Ed25519 is missing (not
Linux, OpenSSL older than 1.1.1) or the file is not in that form, `load_signer` answers None and the agent
signs with `cryptography` as before.
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
from typing import Protocol

# RFC 8410 section 7: PrivateKeyInfo { version 0, AlgorithmIdentifier id-Ed25519, OCTET STRING { key } }.
PKCS8_ED25519_PREFIX = bytes.fromhex("302e020100300506032b657004220420")
NID_ED25519 = 1087  # OpenSSL's EVP_PKEY_ED25519
SIGNATURE_BYTES = 64


class Signer(Protocol):
    def sign(self, data: bytes) -> bytes: ...


def raw_private_key(pem: bytes) -> bytes | None:
    """The 32-byte Ed25519 private key of an unencrypted PKCS#8 PEM, or None if it is not one."""
    lines = pem.strip().splitlines()
    if (
        len(lines) < 3
        or lines[0] != b"-----BEGIN PRIVATE KEY-----"
        or lines[-1] != b"-----END PRIVATE KEY-----"
    ):
        return None
    try:
        der = base64.b64decode(b"".join(lines[1:-1]), validate=True)
    except ValueError:
        return None
    if len(der) != len(PKCS8_ED25519_PREFIX) + 32 or not der.startswith(PKCS8_ED25519_PREFIX):
        return None
    return der[len(PKCS8_ED25519_PREFIX) :]


class OpenSslSigner:
    """An Ed25519 private key held by libcrypto; sign() is thread-safe (a new context per signature)."""

    def __init__(self, libcrypto: ctypes.CDLL, private_key: bytes) -> None:
        self._lib = libcrypto
        self._pkey = libcrypto.EVP_PKEY_new_raw_private_key(NID_ED25519, None, private_key, len(private_key))
        if not self._pkey:
            raise ValueError("libcrypto refused the Ed25519 key")

    def sign(self, data: bytes) -> bytes:
        lib = self._lib
        context = lib.EVP_MD_CTX_new()
        if not context:
            raise MemoryError("libcrypto could not allocate a signing context")
        try:
            signature = ctypes.create_string_buffer(SIGNATURE_BYTES)
            length = ctypes.c_size_t(SIGNATURE_BYTES)
            if lib.EVP_DigestSignInit(context, None, None, None, self._pkey) != 1 or (
                lib.EVP_DigestSign(context, signature, ctypes.byref(length), data, len(data)) != 1
            ):
                raise ValueError("libcrypto failed to sign")
            return signature.raw[: length.value]
        finally:
            lib.EVP_MD_CTX_free(context)

    def public_bytes(self) -> bytes:
        """The raw 32-byte public key."""
        key = ctypes.create_string_buffer(32)
        length = ctypes.c_size_t(32)
        if self._lib.EVP_PKEY_get_raw_public_key(self._pkey, key, ctypes.byref(length)) != 1:
            raise ValueError("libcrypto could not give the public key")
        return key.raw[: length.value]

    def __del__(self) -> None:
        if getattr(self, "_pkey", None):
            self._lib.EVP_PKEY_free(self._pkey)


def load_libcrypto() -> ctypes.CDLL | None:
    """The system's libcrypto with its Ed25519 functions typed, or None where it has none."""
    name = ctypes.util.find_library("crypto")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
        new_key = lib.EVP_PKEY_new_raw_private_key
    except (OSError, AttributeError):  # not found, or OpenSSL older than 1.1.1
        return None
    pointer, size = ctypes.c_void_p, ctypes.c_size_t
    new_key.restype, new_key.argtypes = pointer, [ctypes.c_int, pointer, ctypes.c_char_p, size]
    lib.EVP_PKEY_free.argtypes = [pointer]
    lib.EVP_PKEY_get_raw_public_key.argtypes = [pointer, ctypes.c_char_p, ctypes.POINTER(size)]
    lib.EVP_MD_CTX_new.restype = pointer
    lib.EVP_MD_CTX_free.argtypes = [pointer]
    lib.EVP_DigestSignInit.argtypes = [pointer, pointer, pointer, pointer, pointer]
    lib.EVP_DigestSign.argtypes = [pointer, ctypes.c_char_p, ctypes.POINTER(size), ctypes.c_char_p, size]
    return lib


def load_signer(pem: bytes) -> OpenSslSigner | None:
    """A libcrypto signer for the key in `pem`, or None (use `cryptography`)."""
    private_key = raw_private_key(pem)
    lib = load_libcrypto() if private_key is not None else None
    if lib is None or private_key is None:
        return None
    try:
        return OpenSslSigner(lib, private_key)
    except ValueError:
        return None
