"""Recurrent cells, attention, CRF and a joint binary output written with `keras.ops`, for any Keras 3 backend."""

from .autoregressive import AutoregressiveBernoulli
from .auxiliary import NeighbourWordLoss
from .attention import BahdanauAttention, LuongAttention, NotPadding
from .cells import GRUCell, LSTMCell, MyRNNCell
from .crf import CRF, CRFLoss
from .rnn import RNN
from .ngrams import HashedNgramBag
from .perturbation import EmbeddingPerturbation
from .pooling import MaskedMaxMeanPooling
from .stack import Stack
from .token_features import CharCNN, TokenDropout

CELLS = {"rnn": MyRNNCell, "gru": GRUCell, "lstm": LSTMCell}

__all__ = ["RNN", "AutoregressiveBernoulli", "MyRNNCell", "GRUCell", "LSTMCell", "BahdanauAttention", "LuongAttention", "NotPadding", "MaskedMaxMeanPooling", "Stack", "HashedNgramBag", "CRF", "CRFLoss", "CharCNN", "TokenDropout",
           "NeighbourWordLoss", "EmbeddingPerturbation", "CELLS"]
