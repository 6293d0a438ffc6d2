"""Traders: the desk's customers, who buy challenges and trade them."""
