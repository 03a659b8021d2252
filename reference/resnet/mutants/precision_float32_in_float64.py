"""Mistake (precision): a float64 block computes in float32 (weights and input cast down) and casts back."""

_SolutionResBlock = ResBlock


class ResBlock(_SolutionResBlock):
    def forward(self, x):
        if x.dtype != torch.float64:
            return super().forward(x)
        params = {name: (v.float() if v.is_floating_point() else v) for name, v in self.state_dict().items()}
        return torch.func.functional_call(self, params, (x.float(),), strict=False).double()
