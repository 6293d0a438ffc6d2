"""``propdesk demo``: the whole lifecycle on one machine.

The desks in ``tenants/`` run on the simulators their plugins register (``desks``): each desk
gets its own platform, PSP and KYC provider, and its manifest is applied with their settings
laid over it (in the demo only). Simulated traders then go the real way (``traders``): they
register and buy over the HTTP API, pay on the PSP's checkout, pass KYC, trade on the platform
in a profile, breach or pass through the engine in the worker, and, funded, ask for payouts
that demo finance approves (``finance``) and the worker pays. What happened is read back from
the desks' databases (``tally``) and shown as it happens (``progress``).
"""
