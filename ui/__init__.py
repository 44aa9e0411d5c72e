"""The command line and the Streamlit app: they only assemble and render."""
