package com.litetools.core;

/** The label rule of lite_tools/reference/postprocess.py's label_of: labels[id], or "class id" outside them. */
final class Labels {
    private Labels() {
    }

    static String of(String[] labels, int classId) {
        return classId >= 0 && classId < labels.length ? labels[classId] : "class " + classId;
    }
}
