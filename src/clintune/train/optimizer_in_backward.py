"""`train.optimizer_in_backward`: each parameter is updated the moment its gradient is ready, then the gradient is
freed, so full fine-tuning never holds a whole model's worth of gradients (torchtune's `optimizer_in_bwd`).

Built only from public hooks: PyTorch's `register_post_accumulate_grad_hook` runs one optimizer per parameter during
backward, and the trainer is handed an optimizer object through its documented `create_optimizer` override. That
object owns the per-parameter optimizers; its `step` and `zero_grad` have nothing left to do, and its param groups
are theirs, so the trainer's learning-rate scheduler sets their learning rates; its state dict is theirs, so
checkpoints and resume work as usual. Gradient clipping needs the norm of every gradient before any step and
gradient accumulation needs gradients to outlive a backward pass, so neither can be combined with it (the config
refuses them), nor can data parallelism, whose gradients are averaged after this hook would have used them.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


class OptimizerInBackward(torch.optim.Optimizer):
    def __init__(self, params: list[torch.nn.Parameter], make: Callable[[torch.nn.Parameter], torch.optim.Optimizer]):
        self.per_parameter = {param: make(param) for param in params}
        super().__init__(params, defaults={})
        # The per-parameter optimizers' own groups: the scheduler's learning-rate writes reach them directly.
        self.param_groups = [group for inner in self.per_parameter.values() for group in inner.param_groups]
        self._hooks = [param.register_post_accumulate_grad_hook(self._step_now) for param in params]
        self.largest_gradient = 0  # bytes: the most gradient memory ever held at once (one parameter's)

    def _step_now(self, param: torch.nn.Parameter) -> None:
        self.largest_gradient = max(self.largest_gradient, param.grad.nbytes)
        inner = self.per_parameter[param]
        inner.step()
        inner.zero_grad(set_to_none=True)

    def step(self, closure=None):  # every parameter was stepped during backward
        return closure() if closure is not None else None

    def zero_grad(self, set_to_none: bool = True) -> None:  # the gradients were freed during backward
        return None

    def state_dict(self) -> dict:
        return {"per_parameter": [inner.state_dict() for inner in self.per_parameter.values()]}

    def load_state_dict(self, state_dict: dict) -> None:
        saved = state_dict["per_parameter"]
        if len(saved) != len(self.per_parameter):
            raise ValueError(f"the checkpoint holds {len(saved)} parameter optimizers, the model "
                             f"{len(self.per_parameter)}")
        for inner, state in zip(self.per_parameter.values(), saved, strict=True):
            inner.load_state_dict(state)
        self.param_groups = [group for inner in self.per_parameter.values() for group in inner.param_groups]

    def remove_hooks(self) -> None:
        for hook in self._hooks:
            hook.remove()
