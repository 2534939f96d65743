"""Benchmark models written once against the shared API: ``build(lib)`` works for ``ember`` and ``torch``
alike (``lib.nn``), so both frameworks run the very same architecture."""

from __future__ import annotations


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))


def mnist_cnn(lib):
    """The network of pytorch/examples' mnist/main.py."""
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, 1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, 1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
        nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10),
    )


def resnet18_cifar(lib, num_classes=10):
    """ResNet-18 with a 3x3 stem and no max-pool, the usual CIFAR variant."""
    nn = lib.nn

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            identity = x if self.downsample is None else self.downsample(x)
            return self.relu(out + identity)

    layers = [nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True)]
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, num_classes)]
    return nn.Sequential(*layers)


def vgg11_bn_cifar(lib, num_classes=10):
    nn = lib.nn
    cfg = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]
    layers, cin = [], 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            cin = v
    layers += [nn.Flatten(), nn.Linear(512, num_classes)]
    return nn.Sequential(*layers)


def lstm_classifier(lib, vocab=20000, emb=128, hidden=256, classes=2):
    nn = lib.nn

    class LSTMClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, emb)
            self.lstm = nn.LSTM(emb, hidden, batch_first=True)
            self.fc = nn.Linear(hidden, classes)

        def forward(self, tokens):
            _, (h, _) = self.lstm(self.embedding(tokens))
            return self.fc(h[-1])

    return LSTMClassifier()


def transformer_classifier(lib, vocab=20000, d_model=256, nhead=4, layers=2, ff=1024, classes=2):
    nn = lib.nn

    class TransformerClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, d_model)
            layer = nn.TransformerEncoderLayer(d_model, nhead, ff, dropout=0.1, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.fc = nn.Linear(d_model, classes)

        def forward(self, tokens):
            return self.fc(self.encoder(self.embedding(tokens)).mean(dim=1))

    return TransformerClassifier()


def m5(lib, n_input=1, n_output=35, stride=16, n_channel=32):
    """The M5 1-D conv audio network (Dai et al. 2017) as in torchaudio's tutorial."""
    nn = lib.nn
    F = lib.nn.functional

    class M5(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv1d(n_input, n_channel, kernel_size=80, stride=stride)
            self.bn1 = nn.BatchNorm1d(n_channel)
            self.pool1 = nn.MaxPool1d(4)
            self.conv2 = nn.Conv1d(n_channel, n_channel, kernel_size=3)
            self.bn2 = nn.BatchNorm1d(n_channel)
            self.pool2 = nn.MaxPool1d(4)
            self.conv3 = nn.Conv1d(n_channel, 2 * n_channel, kernel_size=3)
            self.bn3 = nn.BatchNorm1d(2 * n_channel)
            self.pool3 = nn.MaxPool1d(4)
            self.conv4 = nn.Conv1d(2 * n_channel, 2 * n_channel, kernel_size=3)
            self.bn4 = nn.BatchNorm1d(2 * n_channel)
            self.pool4 = nn.MaxPool1d(4)
            self.fc1 = nn.Linear(2 * n_channel, n_output)

        def forward(self, x):
            x = self.pool1(F.relu(self.bn1(self.conv1(x))))
            x = self.pool2(F.relu(self.bn2(self.conv2(x))))
            x = self.pool3(F.relu(self.bn3(self.conv3(x))))
            x = self.pool4(F.relu(self.bn4(self.conv4(x))))
            x = F.avg_pool1d(x, x.shape[-1])
            return F.log_softmax(self.fc1(x.permute(0, 2, 1)).squeeze(1), dim=-1)

    return M5()


def word_language_model(lib, ntoken=33278, ninp=200, nhead=2, nhid=200, nlayers=2, dropout=0.2):
    """The transformer of pytorch/examples' word_language_model (``--model Transformer``) at its
    wikitext-2 defaults: an ``nn.Transformer`` whose encoder runs over (bptt, batch) token ids under a
    causal float mask, a full-vocabulary ``Linear`` decoder and ``log_softmax``."""
    import math

    nn = lib.nn

    class PositionalEncoding(nn.Module):
        def __init__(self, d_model, dropout, max_len=5000):
            super().__init__()
            self.dropout = nn.Dropout(p=dropout)
            position = lib.arange(0, max_len, dtype=lib.float).unsqueeze(1)
            div_term = lib.exp(lib.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
            pe = lib.zeros(max_len, d_model)
            pe[:, 0::2] = lib.sin(position * div_term)
            pe[:, 1::2] = lib.cos(position * div_term)
            self.register_buffer("pe", pe.unsqueeze(0).transpose(0, 1))

        def forward(self, x):
            return self.dropout(x + self.pe[:x.size(0), :])

    class TransformerModel(nn.Transformer):
        def __init__(self):
            super().__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid, num_encoder_layers=nlayers,
                             num_decoder_layers=1)
            self.src_mask = None
            self.pos_encoder = PositionalEncoding(ninp, dropout)
            self.input_emb = nn.Embedding(ntoken, ninp)
            self.decoder = nn.Linear(ninp, ntoken)  # replaces nn.Transformer's decoder stack, as the example does
            nn.init.uniform_(self.input_emb.weight, -0.1, 0.1)
            nn.init.zeros_(self.decoder.bias)
            nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

        def forward(self, src):
            if self.src_mask is None or self.src_mask.size(0) != len(src):
                causal = (lib.triu(lib.ones(len(src), len(src))) == 1).transpose(0, 1)
                self.src_mask = causal.float().masked_fill(causal == 0, float("-inf")).masked_fill(causal == 1, 0.0)
            out = self.encoder(self.pos_encoder(self.input_emb(src) * math.sqrt(ninp)), mask=self.src_mask)
            return lib.nn.functional.log_softmax(self.decoder(out), dim=-1)

    return TransformerModel()
