"""What every clipcart service shares. Nothing domain-specific lives here."""
