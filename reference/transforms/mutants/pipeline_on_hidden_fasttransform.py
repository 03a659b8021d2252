"""Mistake: Pipeline is fasttransform's own Pipeline, reached without naming it as an attribute (through the
globals of Transform's methods): forbidden however it is reached."""

import fasttransform.transform as _ft

_Hidden = _ft.Transform.__init__.__globals__["Pipe" "line"]


class Pipeline(_Hidden):  # noqa: F811
    pass
