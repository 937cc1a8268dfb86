"""The run: inputs in, associations planned and driven, a result for every input.

Inputs (:mod:`~storescu.run.inputs`: operands, ``+sd`` scans, ``--file-list``,
DICOMDIRs), the sender loop with DCMTK's halt rules, retries and re-association
(:mod:`~storescu.run.sender`), parallel associations (:mod:`~storescu.run.parallel`),
reports and resuming (:mod:`~storescu.run.report`), summary and progress
(:mod:`~storescu.run.summary`), ``+rn`` (:mod:`~storescu.run.rename`), probing,
DCMTK ``-xf`` profiles (:mod:`~storescu.run.asconfig`) and Ctrl-C at safe points
(:mod:`~storescu.run.interrupts`).

Imports the layers below: :mod:`storescu.net`, :mod:`storescu.dataset`,
:mod:`storescu.protocol`, :mod:`storescu.kernel`. Never the CLI or the SCP.
"""
