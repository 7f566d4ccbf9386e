"""How results look: the house chart style (theme), chart builders by topic, and the sentences
that say what a chart shows."""
