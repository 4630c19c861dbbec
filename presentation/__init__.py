"""Words and colours shared by the screen and the documents: number formats, the palette and the
Chinese sentences of the 通报. It sits above metrics/ and below both ui/ and reports/, so neither of
those imports the other; nothing here imports streamlit."""
