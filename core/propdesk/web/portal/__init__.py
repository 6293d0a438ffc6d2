"""The trader portal: sign up, buy a challenge, follow its objectives live, request payouts."""
