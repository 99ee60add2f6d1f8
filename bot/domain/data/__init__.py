"""Advisory data files (YAML). A package only so that wheels ship them."""
