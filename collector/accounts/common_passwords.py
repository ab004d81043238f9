"""Passwords of 10 characters or more that head the public lists of leaked passwords (shorter ones are
refused by length already), compared in lower case. A short list on purpose: it stops the guesses an
attacker tries first, within the few attempts the sign-in lockout allows."""

from __future__ import annotations

_LISTED = """
    0000000000 0123456789 0987654321 1111111111 1212121212 1234512345 1234554321 1234567890 1234567891
    12345678910 123456789a 1234567890a 1234567890q 123456789q 12345qwert 1234qwer 1234qwerasdf
    123123123123 123456123456 123qweasdzxc 1472583690 1q2w3e4r5t 1q2w3e4r5t6y 1qaz2wsx3edc 1qazxsw2 2222222222
    5555555555 6666666666 7777777777 8888888888 9876543210 9999999999 a123456789 a1b2c3d4e5 aa12345678
    abc1234567 abcd123456 abcd1234567 abcdefghij abcdefghijk abcdefg123 adminadmin admin12345 admin123456
    administrator asdfasdfasdf asdfghjkl1 asdfghjkl; asdfghjkl123 baseball123 basketball batman1234
    changeme123 charlie123 chocolate1 computer12 computer123 dragon1234 football12 football123 freedom123
    iloveyou12 iloveyou123 iloveyou1234 internet123 jennifer12 letmein123 letmeinnow loveyou123 michael123
    monkey1234 mypassword mypassword1 mypassword123 p@ssw0rd12 p@ssw0rd123 p@ssword12 p@ssword123
    passw0rd12 passw0rd123 password00 password01 password10 password11 password12 password123
    password1234 password12345 password123! password1! password2 password2020 password2021 password2022
    password2023 password2024 password2025 password2026 password99 passwordpassword princess12
    princess123 q1w2e3r4t5 q1w2e3r4t5y6 q1234567890 qazwsxedc123 qazwsxedcrfv qwe123qwe123 qwerty1234
    qwerty12345 qwerty123456 qwertyqwerty qwertyuiop qwertyuiop1 qwertyuiop123 qwertyuiopasdfghjkl
    secret1234 sunshine12 sunshine123 superman12 superman123 starwars12 starwars123 trustno1234
    welcome123 welcome1234 whatever12 whatever123 zaq12wsxcde3 zaq1zaq1zaq1 zxcvbnm123 zxcvbnmasdfghjkl
"""
COMMON_PASSWORDS = frozenset(_LISTED.split())
