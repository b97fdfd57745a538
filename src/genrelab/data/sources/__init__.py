"""The data sources ``data.source`` may name, one module each (like mirdata's datasets), and their registry."""
