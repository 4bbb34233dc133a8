"""Molecules: SMILES / SDF reading with RDKit, tokenisation, scaffold groups and the modality plug-in."""
