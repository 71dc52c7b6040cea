"""The tumour level: clones with HER2 levels and alterations, growing and dying at rates the
cell model gives them under a treatment schedule (panel d of the figure, and clonal selection)."""
