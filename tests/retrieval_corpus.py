"""Hand-made chunks of a small bilingual note, and a workspace built from them through `update_indexes`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from retrieval.indexing import update_indexes
from retrieval.store import write_chunks
from studygraph.records import Chunk, content_id
from studygraph.settings import RetrievalSettings
from studygraph.workspace import Workspace

SOURCE = "notes/ai.md"

# (heading path, text): one passage per topic, Chinese and English, prose and code.
PASSAGES: list[tuple[tuple[str, ...], str]] = [
    (("AI笔记", "线性代数"), "核心概念：特征值与特征向量，奇异值分解（SVD），矩阵分解（LU、QR）。"),
    (("AI笔记", "NumPy"), "import numpy as np\neigenvalues, eigenvectors = np.linalg.eig(A)  # 特征值分解\n"
                           "inverse = np.linalg.inv(A)"),
    (("AI笔记", "卷积神经网络"), "卷积层提取局部特征，池化层下采样。经典架构：LeNet、AlexNet、VGG、ResNet。"),
    (("AI笔记", "训练技巧"), "优化器：SGD、Adam、AdamW。学习率调度：预热加余弦退火。正则化：Dropout、权重衰减、标签平滑。"),
    (("AI笔记", "Transformer"), "位置编码（positional encoding）给 Transformer 提供词序信息，因为自注意力本身不区分顺序。"),
    (("AI笔记", "LLaMA"), "开源大语言模型。微调方法：全参数微调、LoRA（Low-Rank Adaptation）、Prefix Tuning。"),
    (("AI笔记", "GAN"), "Generative adversarial networks train a generator against a discriminator."),
    (("AI笔记", "K-means"), "from sklearn.cluster import KMeans\nmodel = KMeans(n_clusters=3)\nlabels = model.fit_predict(X)"),
    (("AI笔记", "强化学习"), "MDP五元组：(S, A, P, R, γ)，状态空间、动作空间、状态转移概率、奖励函数、折扣因子。"),
    (("AI笔记", "English notes"), "Batch normalization normalizes activations over the mini-batch and speeds up training."),
]


def make_chunk(heading_path: tuple[str, ...], text: str, order: int, source: str = SOURCE) -> Chunk:
    line = 1 + 3 * order
    return Chunk(
        id=content_id(source, " > ".join(heading_path), text, prefix="c"),
        source=source,
        section_id=content_id(source, " > ".join(heading_path), prefix="s"),
        heading_path=heading_path,
        line_start=line,
        line_end=line + text.count("\n") + 1,
        text=text,
        language="zh" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "en",
        order=order,
    )


def corpus_chunks() -> list[Chunk]:
    return [make_chunk(hp, text, i) for i, (hp, text) in enumerate(PASSAGES)]


def chunk_under(chunks: Sequence[Chunk], heading: str) -> Chunk:
    return next(c for c in chunks if c.heading_path[-1] == heading)


def build_workspace(root: Path, chunks: Sequence[Chunk], embedder, settings: RetrievalSettings | None = None,
                    progress=None) -> dict:
    """Write a generation holding `chunks` and their retrieval indexes; returns update_indexes' stats."""
    workspace = Workspace(root)
    with workspace.lock(), workspace.transaction() as tx:
        write_chunks(tx.path("chunks.jsonl"), chunks)
        stats = update_indexes(tx, tx.previous_snapshot(), chunks, embedder, settings or RetrievalSettings(),
                               progress)
        tx.commit(embedder={"name": embedder.name, "dim": embedder.dim}, counts={"chunks": len(chunks)})
    return stats
