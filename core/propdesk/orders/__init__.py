"""Orders: traders buy challenges, resets and retries, with coupons."""
