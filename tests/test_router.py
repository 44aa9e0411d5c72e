"""Routing study-path questions to the path engine, in either language."""

from __future__ import annotations

import pytest

from assistant.router import has_path_intent, route

FIND = {"LoRA": "c-lora", "PPO": "c-ppo", "Transformer": "c-transformer", "BERT": "c-bert"}


def find_concepts(text: str) -> list[str]:
    return [cid for name, cid in FIND.items() if name.lower() in text.lower()]


@pytest.mark.parametrize("question", [
    "我想学LoRA，应该先学什么", "学习Transformer之前要先学什么", "BERT怎么学", "PPO的学习路线", "从哪里开始学LoRA",
    "how should I learn PPO", "what should I learn before BERT", "a learning path to Transformer",
    "where should I start with LoRA", "roadmap for PPO"])
def test_path_questions_naming_a_concept_go_to_the_path_engine(question):
    assert has_path_intent(question)
    where = route(question, find_concepts)
    assert where.kind == "path" and where.goals


@pytest.mark.parametrize("question", [
    "LoRA是什么", "LoRA冻结了哪些权重？", "how does PPO clip the ratio", "what is the learning rate",
    "BERT的预训练任务是什么", "Transformer的位置编码怎么实现"])
def test_ordinary_questions_are_answered(question):
    assert route(question, find_concepts).kind == "answer"


def test_a_path_question_without_a_known_concept_is_answered_from_the_notes():
    assert has_path_intent("如何学好吉他的大横按和弦")
    assert route("如何学好吉他的大横按和弦", find_concepts).kind == "answer"
