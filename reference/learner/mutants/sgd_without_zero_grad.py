"""Mistake: the SGD step never resets the gradients, so they add up over the batches."""


class Learner(Learner):  # noqa: F811
    def fit(self, n_epoch):
        self.history = []
        for _ in range(n_epoch):
            total, count = 0.0, 0
            for xb, yb in self.dls.train:
                loss = self.loss_func(self.model(xb), yb)
                loss.backward()
                with torch.no_grad():
                    for p in self.model.parameters():
                        p -= self.lr * p.grad
                total += float(loss) * len(xb)
                count += len(xb)
            vl, acc, n = 0.0, 0.0, 0
            with torch.no_grad():
                for xb, yb in self.dls.valid:
                    pred = self.model(xb)
                    vl += float(self.loss_func(pred, yb)) * len(xb)
                    acc += float(accuracy(pred, yb)) * len(xb)
                    n += len(xb)
            self.history.append({"train_loss": total / count, "valid_loss": vl / n, "accuracy": acc / n})
        return self.history
