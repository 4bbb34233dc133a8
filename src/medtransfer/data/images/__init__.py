"""The image modality: decoding, readers, the torch dataset and the plug-in that ties them together."""
