"""Agreement between two annotation passes, shared by the merge scripts."""


def kappa(a, b):
    """Cohen's kappa of two yes/no label lists; None when neither pass varies (no yes at all)."""
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b)) / n
    pa, pb = sum(a) / n, sum(b) / n
    expected = pa * pb + (1 - pa) * (1 - pb)
    return (observed - expected) / (1 - expected) if expected < 1 else None


def shown(k):
    """A kappa for a markdown table."""
    return "(no yes in either pass)" if k is None else f"{k:.3f}"
