"""Chat page: questions answered from the notes, streamed, with each citation shown as a card."""

from __future__ import annotations

import streamlit as st

from assistant.service import StudyService
from studygraph.records import Answer, Citation
from ui.views import render
from ui.views.state import app_options, get_service, shows_errors, workspace_ready

HISTORY_KEY = "chat_history"
MODES = ("hybrid", "dense", "lexical")


def sidebar(service: StudyService) -> dict:
    """Model in use and retrieval settings; returns the per-question parameters."""
    settings = service.settings
    with st.sidebar:
        st.subheader("Answering")
        loaded = " · loaded" if service.llm_loaded else ""
        st.caption(render.md_text(f"LLM: {settings.llm.model} ({settings.llm.backend}){loaded}"))
        st.caption(render.md_text(f"Embedder: {settings.embedder.model}"))
        no_llm = st.toggle("Answer without LLM", value=app_options().no_llm, key="chat_no_llm",
                           help="Quote the best-matching sentences of your notes instead of generating text.")
        k = st.slider("Passages (k)", 1, 20, settings.retrieval.k, key="chat_k")
        mode = st.selectbox("Search mode", MODES, index=MODES.index(settings.retrieval.mode), key="chat_mode")
        max_tokens = st.slider("Max answer tokens", 32, 1024, settings.llm.max_tokens, step=32,
                               key="chat_max_tokens", disabled=no_llm)
        if st.button("Clear conversation", icon=":material/delete:", key="chat_clear"):
            st.session_state[HISTORY_KEY] = []
    return {"k": k, "mode": mode, "max_tokens": max_tokens, "use_llm": not no_llm}


MODE_BADGES = {
    "llm": ("green", ":material/verified:"),
    "extractive": ("blue", ":material/format_quote:"),
    "not_found": ("orange", ":material/search_off:"),
    "named_only": ("orange", ":material/help:"),
    "path": ("violet", ":material/route:"),
}
MODE_NOTES = {
    "extractive": "Sentences quoted from your notes, not generated text.",
    "not_found": "Nothing relevant enough was found in your notes; the nearest passages are shown as such.",
    "named_only": "Your notes name this concept without explaining it; here is where they name it.",
}


def show_answer(service: StudyService, answer: Answer, discarded: str = "") -> None:
    """The answer with its mode marked, unsupported sentences flagged, and one card per citation."""
    from assistant.answer import answer_label

    colour, icon = MODE_BADGES.get(answer.mode, ("gray", None))
    if answer.mode == "llm" and not answer.checked:
        colour, icon = "blue", ":material/rule:"  # never the "checked" badge when a sentence was set aside
    st.badge(answer_label(answer), color=colour, icon=icon)
    if answer.mode in MODE_NOTES:
        st.caption(MODE_NOTES[answer.mode])
    if discarded:
        st.caption(render.md_text(f"The model's text was replaced: {discarded}."))
    if answer.answer.strip():
        show_text(answer.answer, answer.unsupported)
    if answer.unsupported:
        st.warning(f"{len(answer.unsupported)} sentence(s) the model wrote are not supported by the source they cite: "
                   "they were left out, and the passage they cite is quoted instead.", icon=":material/report:")
        for sentence in render.unmatched(answer.answer, answer.unsupported):
            st.markdown("- ⚠ " + render.md_text(sentence))
    folded = len(answer.citations) > 3  # a long path answer: passages open on demand
    for citation in answer.citations:
        citation_card(service, citation, render.claims_citing(answer.answer, citation.n), folded)
    if answer.nearest:
        st.caption("Nearest passages (they do not answer the question):")
        for citation in answer.nearest:
            citation_card(service, citation, (), folded=True)
    meta = [answer.mode]
    if answer.model:
        meta.append(answer.model)
    if answer.seconds:
        meta.append(f"{answer.seconds:.1f} s")
    st.caption(render.md_text(" · ".join(meta)))


def show_text(text: str, unsupported: tuple[str, ...] = ()) -> None:
    """Answer text with quoted code blocks rendered as code (not as literal fences)."""
    from assistant.text import code_segments

    for kind, segment, language in code_segments(text):
        if kind == "code":
            st.code(segment, language=language or None)
        else:
            st.html(render.answer_html(segment.strip(), unsupported))


def citation_card(service: StudyService, citation: Citation, claims: list[str] | tuple[str, ...],
                  folded: bool = False) -> None:
    """File, heading path, lines and the passage (in an expander when `folded`), the cited text highlighted."""
    chunk = service.chunks.get(citation.chunk_id)
    passage = chunk.text if chunk is not None else citation.text
    with st.container(border=True):
        label = render.md_text(render.citation_label(citation))
        if not citation.supported:
            label += "  \n:red[⚠ does not support the sentence that cites it]"
        st.markdown(label)
        shown = render.passage_html(passage, render.cited_spans(passage, citation.text, claims))
        if folded:
            with st.expander("Passage"):
                st.html(shown)
        else:
            st.html(shown)


def ask(service: StudyService, question: str, params: dict) -> tuple[Answer, str]:
    """Show checked sentences as they pass, with the model's unchecked text below them as a marked draft that each
    checked sentence replaces; return the answer and, when the model's text was set aside, why."""
    from assistant.answer import AnswerParams

    checked_box, draft_box = st.empty(), st.empty()
    checked: list[str] = []
    draft: list[str] = []
    answer, discarded = None, ""
    with st.spinner("Searching your notes…"):
        for event in service.assistant.events(question, AnswerParams(**params)):
            if event.kind == "token":
                draft.append(event.text)
                draft_box.caption(render.md_text("Draft, being checked: " + "".join(draft)) + " ▌")
            elif event.kind == "sentence":
                checked.append(event.text)
                draft.clear()
                draft_box.empty()
                with checked_box.container():
                    show_text("\n".join(checked))
            elif event.kind == "discard":
                discarded = event.text
            elif event.kind == "answer":
                answer = event.answer
    checked_box.empty()
    draft_box.empty()
    assert answer is not None
    return answer, discarded


def main() -> None:
    """The page: settings in the sidebar, the conversation, and the question box."""
    st.title("Ask your notes")
    st.html(render.STYLE)
    with shows_errors():
        service = get_service()
        params = sidebar(service)
        if not workspace_ready(service):
            return
        history: list[dict] = st.session_state.setdefault(HISTORY_KEY, [])
        if not history:
            st.caption(f"Answers come only from your notes ({len(service.chunks)} passages); every sentence cites "
                       "the passage it comes from as [n], and our code checks each citation. Ask about a concept "
                       "(“LoRA 是什么？”), or how to learn one (“我想学 LoRA，应该先学什么？”).")
        for turn in history:
            with st.chat_message("user"):
                st.markdown(render.md_text(turn["question"]))
            with st.chat_message("assistant"):
                show_answer(service, turn["answer"], turn.get("discarded", ""))
        question = st.chat_input("Ask a question about your notes (中文 or English)…")
        if question:
            with st.chat_message("user"):
                st.markdown(render.md_text(question))
            with st.chat_message("assistant"):
                answer, discarded = ask(service, question, params)
                show_answer(service, answer, discarded)
            history.append({"question": question, "answer": answer, "discarded": discarded})


if __name__ == "__main__":
    main()
