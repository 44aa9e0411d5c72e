"""The Streamlit app's pages and the helpers they share (they assemble and render; logic stays in the packages)."""
