"""Build a tiny sentence-transformers model on disk, offline: a character-level WordPiece tokenizer
trained on the catalogue's names, and a 2-layer BERT with random weights. It exercises the real
loading and encoding path of `SentenceTransformerEncoder` without any download."""
from __future__ import annotations

from pathlib import Path


def build_tiny_model(folder: Path, texts: list[str], dim: int = 32) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer
    try:  # sentence-transformers ≥ 6 moved the modules; older releases have them here
        from sentence_transformers.sentence_transformer import modules as models
    except ImportError:
        from sentence_transformers import models
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import WordPiece
    from tokenizers.trainers import WordPieceTrainer
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    torch.manual_seed(0)
    folder = Path(folder)
    raw = folder / "bert"
    raw.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Split("", "isolated")  # one token per character
    tok.decoder = decoders.WordPiece()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(texts, WordPieceTrainer(vocab_size=2000, special_tokens=specials))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=64)
    fast.save_pretrained(raw)
    cfg = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=dim, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=2 * dim, max_position_embeddings=80)
    BertModel(cfg).save_pretrained(raw)
    word = models.Transformer(str(raw), max_seq_length=64)
    dim_of = getattr(word, "get_embedding_dimension", None) or word.get_word_embedding_dimension
    pool = models.Pooling(dim_of(), pooling_mode="mean")
    out = folder / "tiny-st"
    SentenceTransformer(modules=[word, pool], device="cpu").save(str(out))
    return out
