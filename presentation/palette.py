"""Colour-blind-safe colours (Okabe-Ito) used by every chart and the map."""
from __future__ import annotations

BLUE = "#0072B2"
SKY = "#56B4E9"
ORANGE = "#E69F00"
VERMILLION = "#D55E00"
GREEN = "#009E73"
GREY = "#999999"

STATUS_COLOURS = {"priority": VERMILLION, "watch": ORANGE, "normal": BLUE, "insufficient": GREY}

# Sequential ramp for the choropleth (cividis-like: readable with any colour vision), light -> dark.
RAMP = ((253, 231, 37), (144, 215, 67), (53, 183, 121), (33, 145, 140), (49, 104, 142), (68, 57, 131), (68, 1, 84))
NO_DATA_RGB = (210, 210, 210)
