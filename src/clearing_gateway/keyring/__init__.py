"""The encryption key ring's maintenance: re-encrypting stored secrets after a rotation."""
