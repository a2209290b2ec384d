"""PP-ShiTu: the two-model system config, the gallery (index build/import, search) and the reference pipeline.

The gallery API (lite_tools.shitu.gallery, .index, .paddleclas_index), small on purpose:

    from lite_tools.shitu import gallery, index

    g = gallery.load(GALLERY)           # a `lite-tools gallery build` folder, every file checked (BadInput if not)
    b = gallery.bind(REC_DIR)           # the rec model: params sha256 + sha256 of its ARM .nb (opt, cached)
    gallery.require_model(g, b)         # BadInput naming both models when the gallery was built with another
    hits = g.search(query, k=5, element="float32")   # or "int8": [index.Hit(id, score, position, label, path)]
    g.file("int8"), g.file("float32")   # the index files to ship (store them uncompressed: the app maps them)
    g.dim, g.count, g.ids, g.labels, g.paths, g.params_sha256, g.nb_sha256, g.manifest

    f = index.read(PATH)                # one index file -> index.IndexFile, the same .search(query, k)
    embed = gallery.Embedder(REC_DIR, rec_config)    # image (HxWx3 uint8 RGB) -> L2-normalised float32 vector
    rec_config = gallery.rec_config(PATH)            # inference.yml / our JSON / a PP-ShiTu system config

`query` is an L2-normalised float32 vector of g.dim values. Scores: inner product (about the cosine); hits are
sorted by score descending, ties by the lower id; the Java EmbeddingSearcher over the same file returns the same
ids and the same scores, bit for bit (index.py's docstring defines the arithmetic). GalleryStore (Java) writes the
float32 format too, so index.read() reads an app's "add to gallery" store.
"""
