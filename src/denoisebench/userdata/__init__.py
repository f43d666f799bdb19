"""A user's own files: reading and writing them (:mod:`.files`: WAV, NPY, Parquet, CSV;
:mod:`.image_files`: NPY and PNG images),
windows and overlap-add (:mod:`.windows`), denoising them with a trained model
(:mod:`.denoise`, ``denoisebench denoise``) and importing paired recordings as a folder
dataset (:mod:`.importer`, ``denoisebench datasets import``); the handlers of those commands
(:mod:`.commands`)."""
