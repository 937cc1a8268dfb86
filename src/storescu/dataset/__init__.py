"""The pydicom boundary: what an input file is, and the bytes of its dataset as sent.

Inspecting a file without pydicom (:mod:`~storescu.dataset.inspection`, PS3.10 7.1),
streaming its dataset (:mod:`~storescu.dataset.readers`, :mod:`~storescu.dataset.sources`),
re-encoding between uncompressed syntaxes (:mod:`~storescu.dataset.transcode`, PS3.5),
decompressing (:mod:`~storescu.dataset.decompress`), rewriting
(:mod:`~storescu.dataset.rewrite` and its fast path :mod:`~storescu.dataset.splice`),
DICOMDIRs (PS3.10 8, :mod:`~storescu.dataset.dicomdir`) and data dictionaries.

Imports :mod:`storescu.kernel` only (not the protocol or the network): pydicom and
the codecs are imported lazily, on the paths that change a dataset.
"""
