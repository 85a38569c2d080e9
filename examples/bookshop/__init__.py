"""A small untyped shop: the program typeharvest's demo traces."""
