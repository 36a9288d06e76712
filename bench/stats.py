"""Small latency statistics shared by the bench modules."""
import math


def percentile(values, q):
    """Nearest-rank q-th percentile (0-100) of values; None when empty."""
    if not values:
        return None
    s = sorted(values)
    # Nearest-rank keeps p99 an actually observed latency, which matters with small n.
    return s[max(0, math.ceil(q / 100 * len(s)) - 1)]
