"""Mistake (precision): set_hyper stores every value rounded to bfloat16."""


class GroupOptimizer(GroupOptimizer):
    def set_hyper(self, name, value):
        for hypers, v in zip(self.hypers, lr_range(value, len(self.opts))):
            hypers[name] = float(torch.tensor(float(v), dtype=torch.bfloat16))
