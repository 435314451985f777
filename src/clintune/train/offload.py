"""`train.activation_offloading`: what autograd saves for backward is kept in CPU memory, not on the GPU.

PyTorch's public `saved_tensors_hooks` see every tensor an op saves: the hook copies it to (pinned) CPU memory in the
forward pass and back to its device when backward needs it, so the GPU holds only the activations in use. Unlike
`torch.autograd.graph.save_on_cpu`, parameters and buffers stay where they are (a frozen base saved by every linear
layer would otherwise be copied to the host at each step), and so do small tensors, whose copy costs more than it
frees. With gradient checkpointing only the checkpointed layers' inputs are saved, so those are what moves.
"""

from __future__ import annotations

import torch
from torch import nn

SMALL = 2**20  # bytes: tensors below this stay on the device


class OffloadActivations(torch.autograd.graph.saved_tensors_hooks):
    def __init__(self, model: nn.Module, device: str = "cuda"):
        self.device = device
        self.kept = {t.untyped_storage().data_ptr() for t in (*model.parameters(), *model.buffers())}
        self.pin = torch.cuda.is_available()
        self.moved = 0  # tensors copied to the host so far (the tests read it)
        super().__init__(self._pack, self._unpack)

    def _pack(self, tensor: torch.Tensor):
        if (tensor.device.type != self.device or tensor.nbytes < SMALL
                or tensor.untyped_storage().data_ptr() in self.kept):
            return tensor
        host = torch.empty(tensor.size(), dtype=tensor.dtype, layout=tensor.layout, pin_memory=self.pin)
        host.copy_(tensor, non_blocking=self.pin)
        self.moved += 1
        return (tensor.device, host)

    def _unpack(self, packed):
        if isinstance(packed, torch.Tensor):
            return packed
        device, host = packed
        return host.to(device, non_blocking=self.pin)
