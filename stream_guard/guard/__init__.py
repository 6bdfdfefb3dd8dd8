"""Who may connect and how much they may send: credentials, tickets, origins, limits. No I/O."""
