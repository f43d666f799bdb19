"""The datasets (docs/design.md "Data"): what each kind is (:mod:`.kinds`, the registry), how
it is made (:mod:`.signals`, :mod:`.images` with :mod:`.image_sources`; :mod:`.generate`
plans and writes the shards), a user's own folder (:mod:`.folder`, :mod:`.folder_checks`),
the on-disk format (:mod:`.shards`) and the training input pipeline (:mod:`.pipeline`)."""
