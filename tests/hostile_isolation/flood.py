"""Answer every call with about 60 MB of JSON (far more than any correct answer)."""


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    return {"values": "0" * 60_000_000, "more": list(range(1000))}
