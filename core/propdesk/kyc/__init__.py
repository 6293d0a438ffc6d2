"""KYC: the contract every identity-verification provider implements, verdicts and gates."""
