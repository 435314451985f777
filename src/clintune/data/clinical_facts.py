"""The clinical vocabulary the synthetic-note generator samples from.

Invented for clintune from general medical knowledge; no row is drawn from any real record. Every tuple keeps the
formal name, the abbreviation a clinician would write, and the plain words a patient would understand, so the
generator can write one in the note and ask for another in a question.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Comorbidity:
    name: str
    abbr: str
    plain: str
    drug: str  # the home medication that treats it, with dose and frequency
    dose: str


COMORBIDITIES = (
    Comorbidity("hypertension", "HTN", "high blood pressure", "lisinopril", "10 mg PO daily"),
    Comorbidity("type 2 diabetes mellitus", "DM2", "type 2 diabetes", "metformin", "500 mg PO BID"),
    Comorbidity("chronic kidney disease", "CKD", "long-term kidney disease", "sevelamer", "800 mg PO TID with meals"),
    Comorbidity("chronic obstructive pulmonary disease", "COPD", "chronic lung disease", "tiotropium",
                "18 mcg inhaled daily"),
    Comorbidity("coronary artery disease", "CAD", "narrowed heart arteries", "aspirin", "81 mg PO daily"),
    Comorbidity("atrial fibrillation", "AF", "an irregular heartbeat", "metoprolol tartrate", "25 mg PO BID"),
    Comorbidity("hyperlipidemia", "HLD", "high cholesterol", "atorvastatin", "40 mg PO nightly"),
    Comorbidity("gastroesophageal reflux disease", "GERD", "acid reflux", "omeprazole", "20 mg PO daily"),
    Comorbidity("congestive heart failure", "CHF", "heart failure", "carvedilol", "6.25 mg PO BID"),
    Comorbidity("major depressive disorder", "MDD", "depression", "sertraline", "50 mg PO daily"),
    Comorbidity("osteoarthritis", "OA", "wear-and-tear arthritis", "acetaminophen", "650 mg PO q6h PRN pain"),
    Comorbidity("peripheral artery disease", "PAD", "poor circulation in the legs", "cilostazol", "100 mg PO BID"),
    Comorbidity("generalized anxiety disorder", "GAD", "an anxiety disorder", "escitalopram", "10 mg PO daily"),
    Comorbidity("benign essential tremor", "ET", "a harmless shaking of the hands", "propranolol", "20 mg PO BID"),
)


@dataclass(frozen=True)
class Diagnosis:
    name: str
    abbr: str
    complaint: str
    test: str
    finding: str
    drug: str  # the inpatient treatment
    dose: str
    step_down: str  # what it was changed to, also the discharge medication
    step_down_dose: str
    procedure: str
    procedure_finding: str
    service: str


DIAGNOSES = (
    Diagnosis("community-acquired pneumonia", "CAP", "fever and productive cough", "CXR",
              "RLL consolidation", "ceftriaxone", "1 g IV q24h", "cefuroxime", "500 mg PO BID",
              "sputum culture", "Streptococcus pneumoniae", "pulmonology"),
    Diagnosis("non-ST-elevation myocardial infarction", "NSTEMI", "substernal chest pain", "troponin",
              "troponin of 2.1 ng/mL", "heparin", "infusion per ACS protocol", "apixaban", "5 mg PO BID",
              "cardiac catheterization", "a 90% stenosis of the LAD treated with one drug-eluting stent",
              "cardiology"),
    Diagnosis("diabetic ketoacidosis", "DKA", "nausea, vomiting and polyuria", "BMP", "an anion gap of 24",
              "insulin", "infusion at 0.1 units/kg/h", "insulin glargine", "20 units SC nightly",
              "endocrinology consultation", "new insulin dependence", "endocrinology"),
    Diagnosis("acute pancreatitis", "AP", "epigastric pain radiating to the back", "lipase", "lipase of 1,850 U/L",
              "lactated Ringer's", "150 mL/h IV", "oral hydration", "2 L of fluid PO daily",
              "abdominal ultrasound", "cholelithiasis without ductal dilation", "gastroenterology"),
    Diagnosis("urinary tract infection", "UTI", "dysuria and flank pain", "UA",
              "positive leukocyte esterase and nitrites", "ceftriaxone", "1 g IV q24h", "cephalexin",
              "500 mg PO QID", "renal ultrasound", "no hydronephrosis", "urology"),
    Diagnosis("deep vein thrombosis", "DVT", "L calf swelling", "venous duplex", "an occlusive popliteal thrombus",
              "enoxaparin", "1 mg/kg SC BID", "rivaroxaban", "15 mg PO BID", "CT chest",
              "no pulmonary embolism", "vascular medicine"),
    Diagnosis("acute decompensated heart failure", "ADHF", "worsening SOB and leg edema", "BNP",
              "BNP of 1,420 pg/mL", "furosemide", "40 mg IV BID", "torsemide", "20 mg PO daily",
              "transthoracic echocardiogram", "an EF of 30%", "cardiology"),
    Diagnosis("cellulitis", "cellulitis", "a red, warm, painful R leg", "CBC", "WBC of 14.2",
              "cefazolin", "2 g IV q8h", "cephalexin", "500 mg PO QID", "lower extremity ultrasound",
              "no abscess", "infectious disease"),
    Diagnosis("upper gastrointestinal bleeding", "UGIB", "melena and lightheadedness", "Hgb",
              "Hgb of 6.9 g/dL", "pantoprazole", "40 mg IV BID", "pantoprazole", "40 mg PO BID",
              "EGD", "a clean-based duodenal ulcer", "gastroenterology"),
    Diagnosis("acute ischemic stroke", "CVA", "sudden R-sided weakness", "CT head", "no hemorrhage",
              "aspirin", "325 mg PO daily", "clopidogrel", "75 mg PO daily", "MRI brain",
              "an acute L MCA territory infarct", "neurology"),
    Diagnosis("acute exacerbation of COPD", "AECOPD", "wheezing and increased sputum", "ABG",
              "a pH of 7.31 with a pCO2 of 58", "methylprednisolone", "40 mg IV q12h", "prednisone",
              "40 mg PO daily for 5 days", "CXR", "hyperinflation without infiltrate", "pulmonology"),
    Diagnosis("small bowel obstruction", "SBO", "abdominal distension and bilious emesis", "CT abdomen",
              "dilated loops of small bowel with a transition point", "NG tube decompression",
              "to low intermittent suction", "a clear liquid diet", "advanced as tolerated",
              "small bowel follow-through", "contrast reaching the colon", "general surgery"),
    Diagnosis("acute cholecystitis", "AC", "RUQ pain and fever", "RUQ ultrasound",
              "gallbladder wall thickening with pericholecystic fluid", "piperacillin-tazobactam",
              "3.375 g IV q6h", "amoxicillin-clavulanate", "875 mg PO BID",
              "laparoscopic cholecystectomy", "acute calculous cholecystitis", "general surgery"),
    Diagnosis("pulmonary embolism", "PE", "pleuritic chest pain and tachycardia", "CTA chest",
              "a R lower lobe segmental PE", "heparin", "infusion per protocol", "apixaban", "5 mg PO BID",
              "bilateral LE duplex", "no residual DVT", "hematology"),
)

# Complications: what happened, how it was treated.
EVENTS = (
    ("hypokalemia", "oral potassium chloride"),
    ("acute kidney injury", "IV fluids"),
    ("hypomagnesemia", "IV magnesium sulfate"),
    ("delirium", "reorientation and melatonin"),
    ("constipation", "senna and docusate"),
    ("hyperglycemia", "sliding-scale insulin"),
    ("urinary retention", "a straight catheter"),
    ("a fall without injury", "PT evaluation and fall precautions"),
)

LABS = (
    ("Na", "sodium", "mmol/L", (128, 144)),
    ("K", "potassium", "mmol/L", (3.0, 5.4)),
    ("Cr", "creatinine", "mg/dL", (0.6, 2.8)),
    ("BUN", "blood urea nitrogen", "mg/dL", (8, 48)),
    ("WBC", "white blood cell count", "K/uL", (3.8, 18.5)),
    ("Hgb", "hemoglobin", "g/dL", (7.8, 15.2)),
    ("Plt", "platelets", "K/uL", (110, 420)),
    ("Glu", "glucose", "mg/dL", (72, 310)),
    ("Lactate", "lactate", "mmol/L", (0.8, 4.1)),
)

# Abbreviations the notes use without defining them, as clinicians do. The generator records each one it writes.
ABBREVIATIONS = {
    "y/o": "years old",
    "PMH": "past medical history",
    "ED": "emergency department",
    "HPI": "history of present illness",
    "c/o": "complaining of",
    "SOB": "shortness of breath",
    "RA": "room air",
    "HD": "hospital day",
    "D/c'd": "discharged",
    "F/u": "follow-up",
    "SNF": "skilled nursing facility",
    "PT": "physical therapy",
    "NAD": "no acute distress",
    "PO": "by mouth",
    "BID": "twice daily",
    "CXR": "chest X-ray",
    "LOS": "length of stay",
    "VNA": "visiting nurse association",
    "s/p": "status post",
    "tx'd": "treated",
    "RRR": "regular rate and rhythm",
    "CTAB": "clear to auscultation bilaterally",
    "EtOH": "alcohol",
    "OT": "occupational therapy",
}

# Optional sections, so that notes vary in length and shape like real ones.
EXAM_LINES = (
    ("Gen: NAD, A&Ox3.", ("NAD",)),
    ("CV: RRR, no murmurs.", ("RRR",)),
    ("Lungs: CTAB.", ("CTAB",)),
    ("Lungs: scattered crackles at the bases.", ()),
    ("Abd: soft, mildly tender, non-distended.", ()),
    ("Ext: 1+ pitting edema bilaterally.", ()),
    ("Neuro: no focal deficits. Strength 5/5 in all extremities.", ()),
    ("CV: 2/6 systolic murmur at the LUSB.", ()),
    ("ECOG 1; EF 35-40% on prior echo.", ()),
)
SOCIAL = ("Lives with spouse.", "Lives alone in an apartment.", "Lives with adult daughter.",
          "Retired, lives with family.")
DIETS = ("Low-sodium diet.", "Carb-consistent diet.", "Regular diet as tolerated.", "Soft diet, advance as tolerated.")
ACTIVITY = ("Activity as tolerated.", "No heavy lifting for 2 weeks.", "Walk with a walker at all times.")
RETURN_PRECAUTIONS = (("Return to the ED for fever over 38.5, worsening pain or SOB.", ("ED", "SOB")),
                      ("Call the clinic or return for chest pain, bleeding or confusion.", ()))
PENDING = ("final blood cultures", "surgical pathology", "a repeat BMP in 1 week", "outpatient sleep study")

DISPOSITIONS = (
    ("home", "home"),
    ("home w/ VNA", "home with visiting nurse services"),
    ("SNF", "a skilled nursing facility"),
    ("acute rehab", "an acute rehabilitation facility"),
)
CONDITIONS = ("stable", "improved", "fair", "good")

# Things no note mentions: the basis of the unanswerable questions.
ABSENT_PROCEDURES = ("bone marrow biopsy", "lumbar puncture", "colonoscopy", "thoracentesis", "paracentesis")
ABSENT_ABBREVIATIONS = ("TPN", "ESRD", "SLE", "TIA", "BPH", "HCC")
ABSENT_FACTS = (
    ("What is the patient's blood type?", "the patient's blood type"),
    ("What was the patient's occupation before admission?", "the patient's occupation"),
    ("How many pack-years did the patient smoke?", "a smoking history"),
    ("Did the patient receive an influenza vaccine this season?", "influenza vaccination"),
    ("Which pharmacy will fill the discharge prescriptions?", "a pharmacy"),
    ("What were the results of the patient's last colonoscopy?", "a colonoscopy"),
)
PROGRESS = ("afebrile overnight, tolerating PO.", "ambulating in the hallway w/ PT.", "pain controlled on PO meds.",
            "labs stable, no new complaints.", "mild nausea, resolved w/ ondansetron.", "slept well, vitals stable.",
            "diet advanced, tolerated well.", "case management engaged for discharge planning.")
