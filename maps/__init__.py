"""gridhouse web pages (folium): data in, HTML out; knows no HTTP."""
