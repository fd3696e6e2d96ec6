"""Erica's CLIP tool: image sets in ChromaDB, text/image search, zero-shot labels, similarity
matrices, localisation, relevance feedback, video frames, and Erica's own mini-CLIP.

The UI (``ui/pages/2_CLIP_lab.py``), the chat (:mod:`tutor.clip.demo`) and the CLI
(:mod:`tutor.clip.cli`) all call the functions of these modules; nothing here prints.

Modules are imported lazily by their users: ``import tutor.clip`` does not import torch.
"""
