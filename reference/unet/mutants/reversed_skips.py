"""Mistake: the skips are paired in encoder order (shallowest first) instead of deepest first: the list of hooked layers is not reversed."""

_Solution = UNet


class UNet(nn.Module):
    forward = _Solution.forward

    def __init__(self, encoder, n_out, img_size):
        super().__init__()
        img_size = (int(img_size[0]), int(img_size[1]))
        self.encoder = encoder
        shapes = _layer_shapes(encoder, img_size)
        widths = [s[-1] for s in shapes]
        idxs = [i for i in range(len(widths) - 1) if widths[i] != widths[i + 1]]
        self.skip_idxs = idxs  # not reversed
        ni = int(shapes[-1][1])
        self.middle = nn.Sequential(nn.Conv2d(ni, 2 * ni, 3, padding=1), nn.ReLU(),
                                    nn.Conv2d(2 * ni, ni, 3, padding=1), nn.ReLU())
        blocks, up_c = [], ni
        for i, idx in enumerate(self.skip_idxs):
            block = UnetBlock(up_c, int(shapes[idx][1]), final_div=i != len(self.skip_idxs) - 1)
            blocks.append(block)
            up_c = block.conv2.out_channels
        self.blocks = nn.ModuleList(blocks)
        self.up_final = (nn.ConvTranspose2d(up_c, up_c, kernel_size=2, stride=2)
                         if tuple(shapes[0][-2:]) != img_size else None)
        c_in = _in_channels(encoder)
        self.head = nn.Sequential(nn.Conv2d(up_c + c_in, up_c, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(up_c, n_out, kernel_size=1))
