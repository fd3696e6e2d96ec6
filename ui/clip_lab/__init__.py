"""The CLIP lab's tabs, one module each; ``ui/pages/2_CLIP_lab.py`` lays them out."""
