"""Settlement: sweeping settled deposit funds into the merchant's withdrawal vault."""
