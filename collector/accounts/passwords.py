"""Account passwords: the policy a new password must meet, and argon2id hashing.

Hashes are argon2id (argon2-cffi) with the parameters OWASP recommends as a minimum (2023): 19 MiB of
memory, 2 passes, 1 lane, a 16-byte salt and a 32-byte hash — about 50 ms on one core. The parameters are
stored in each hash, so raising them later takes effect at each account's next sign-in (the password is
hashed again). Hashing runs on a small pool of its own threads, off the event loop and off the database
threads, which also bounds the memory it takes (19 MiB per thread).

Nothing here logs or echoes a password: error messages name the rule, never the value.
"""

from __future__ import annotations

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from collector.accounts.common_passwords import COMMON_PASSWORDS
from collector.core.errors import InvalidArgument

MIN_LENGTH = 10
MAX_LENGTH = 1024
TIME_COST = 2
MEMORY_KIB = 19 * 1024
PARALLELISM = 1
HASH_BYTES = 32
SALT_BYTES = 16
# Hashing threads: at most this many hashes at once (CPU and memory bound).
HASHING_THREADS = 2


def hasher(
    time_cost: int = TIME_COST, memory_kib: int = MEMORY_KIB, parallelism: int = PARALLELISM
) -> PasswordHasher:
    """The argon2id hasher with the documented parameters (others only to test a change of them)."""
    return PasswordHasher(
        time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, hash_len=HASH_BYTES,
        salt_len=SALT_BYTES,
    )  # fmt: skip


def check_policy(password: str, name: str, field: str = "password") -> None:
    """Refuse a weak new password: shorter than MIN_LENGTH or longer than MAX_LENGTH characters, one
    character repeated, the account's name (alone or with only digits and symbols around it), or one of
    the most common leaked passwords. The message names the rule, never the password."""
    if len(password) < MIN_LENGTH:
        raise InvalidArgument(f"{field}: at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidArgument(f"{field}: at most {MAX_LENGTH} characters")
    lowered = password.lower()
    if len(set(lowered)) == 1:
        raise InvalidArgument(f"{field}: not one character repeated")
    name = name.lower()
    if name and name in lowered and not any(c.isalpha() for c in lowered.replace(name, "", 1)):
        raise InvalidArgument(f"{field}: must not be the account's name (with or without digits)")
    if lowered in COMMON_PASSWORDS:
        raise InvalidArgument(f"{field}: one of the most common passwords; choose another")


def check_length(password: str, field: str = "password") -> None:
    """Refuse a password too long to be worth hashing (a cheap bound before any work)."""
    if len(password) > MAX_LENGTH:
        raise InvalidArgument(f"{field}: at most {MAX_LENGTH} characters")


@dataclass(frozen=True)
class Verified:
    """The outcome of checking a password: whether it matched, and a new hash when the stored one was
    made with other parameters (store it)."""

    ok: bool
    new_hash: str = ""


class Passwords:
    """Hashes and verifies passwords on HASHING_THREADS threads of their own."""

    def __init__(self, ph: PasswordHasher | None = None, threads: int = HASHING_THREADS) -> None:
        self._ph = ph or hasher()
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="argon2")
        # Unknown names and accounts without a password are checked against this, so that a wrong name
        # takes as long as a wrong password and timing does not reveal which names exist. Made on the
        # hashing threads, so that it does not delay the collector's start.
        self._dummy = self._executor.submit(self._ph.hash, secrets.token_urlsafe(16))

    def hash_now(self, password: str) -> str:
        """The hash of `password`, on this thread (the command line's offline account creation)."""
        return self._ph.hash(password)

    def verify_now(self, stored: str, password: str) -> Verified:
        """Check `password` against `stored` ("" = no password: always fails, taking the same time)."""
        try:
            self._ph.verify(stored or self._dummy.result(), password)
        except (VerificationError, InvalidHashError):
            return Verified(False)
        if not stored:
            return Verified(False)
        return Verified(True, self._ph.hash(password) if self._ph.check_needs_rehash(stored) else "")

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._ph.hash, password)

    async def verify(self, stored: str, password: str) -> Verified:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.verify_now, stored, password)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
