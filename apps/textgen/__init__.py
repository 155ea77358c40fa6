"""Language models of text: learn from one example per line (or running text), sample new ones."""
